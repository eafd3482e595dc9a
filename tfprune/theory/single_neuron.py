"""The paper's single hidden neuron a * relu(w.x): IMP vs LRR by gradient descent, in numpy."""
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

INITS = ("balanced", "uniform")


def check_args(dim, seeds, seed=0, init="balanced", n=100, lr=0.01, steps=60000, threshold=1e-3):
    """Raises a one-line `ValueError` naming the first bad argument of `run`."""
    for name, value, low in (("dim", dim, 1), ("seeds", seeds, 1), ("seed", seed, 0), ("n", n, 1),
                             ("steps", steps, 0)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    for name, value in (("lr", lr), ("threshold", threshold)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")


def draw(dim, seeds, seed=0, init="balanced", n=100):
    """Draws every seed's data and initialization from one `np.random.default_rng(seed)`.

    Args:
        dim: input dimension D.
        seeds: number of independent problems S.
        seed: the generator's seed.
        init: "balanced": w0 ~ N(0, 1)^D and a0 = +-|w0| (random sign), so a^2 - |w|^2 = 0;
            "uniform": a0 = U(-1, 1) * |w0|, so a^2 - |w|^2 < 0 and a can change sign.
        n: samples per seed.

    Returns:
        (x, y, a0, w0): inputs x ~ U[-1, 1]^D of shape (S, n, D), targets y = relu(x_1) of shape
        (S, n), a0 of shape (S,) and w0 of shape (S, D), all float64.
    """
    check_args(dim, seeds, seed, init, n)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(seeds, n, dim))
    w0 = rng.normal(size=(seeds, dim))
    norm = np.linalg.norm(w0, axis=1)
    if init == "balanced":
        a0 = rng.choice([-1.0, 1.0], size=seeds) * norm
    else:
        a0 = rng.uniform(-1.0, 1.0, size=seeds) * norm
    return x, np.maximum(x[..., 0], 0.0), a0, w0


def loss(a, w, x, y):
    """The per-seed loss L = mean_k((a * relu(w.x_k) - y_k)^2) / 2, shape (S,)."""
    out = a[:, None] * np.maximum(np.einsum("snd,sd->sn", x, w), 0.0)
    return 0.5 * np.mean((out - y) ** 2, axis=1)


def relative_loss(a, w, x, y):
    """L divided by the zero predictor's loss mean(y^2) / 2 (1 = learned nothing).

    With a single input x_1 and target relu(x_1) this is exactly (a * w_1 - 1)^2 when w_1 > 0
    and >= 1 when w_1 <= 0, so a small value means a * w_1 ~ 1 with w_1 > 0: the target itself.
    """
    return loss(a, w, x, y) / (0.5 * np.mean(y ** 2, axis=1))


def train(a, w, x, y, lr=0.01, steps=60000, near=8):
    """Full-batch gradient descent on `loss` for S independent seeds at once.

    Exact GD (the iterates of evaluating every sample, up to rounding), computed cheaply: on a
    fixed ReLU activation pattern A, dL/dw = a r and dL/da = w.r with r = a M w - b,
    M = X_A'X_A / n and b = X_A'y_A / n. Each seed keeps (M, b) of all but its `near` samples
    closest to the hyperplane w.x = 0, split off at an anchor (w at the last split); those cannot
    change side before w is farther from the anchor than the closest of them is from the
    hyperplane, and only then is the seed split again. The near samples are evaluated every step:
    GD often slides along a kink of the loss, one sample crossing the hyperplane back and forth.
    A step costs O(D^2 + near D) per seed instead of O(nD). For D = 1 the active set is x > 0 or
    x < 0 by the sign of w.

    Args:
        a: (S,) output weights.
        w: (S, D) input weights.
        x: (S, n, D) inputs.
        y: (S, n) targets.
        lr: step size.
        steps: number of steps.
        near: samples per seed evaluated every step when D > 1.

    Returns:
        (a, w, changed_sign): trained copies of a and w, and a (S,) bool array, True where a had
        the opposite sign of its initial value at some step.
    """
    seeds, n, dim = x.shape
    if dim == 1:
        return _train_1d(a, w, x, y, lr, steps)
    near = min(near, n)
    # Seeds on the last axis: every per-step operation then runs along contiguous memory.
    a = np.array(a, dtype=np.float64)
    w = np.array(w, dtype=np.float64).T.copy()
    lengths = np.linalg.norm(x, axis=2)
    lengths[lengths == 0] = np.inf  # a sample at the origin never changes side
    # rows: M, then the near samples / n; one product gives M w and the near z / n
    stacked = np.empty((dim + near, dim, seeds))
    b = np.empty((dim, seeds))
    x_near = np.empty((near, dim, seeds))
    y_near = np.empty((near, seeds))  # divided by n, like M and b
    anchor = np.empty_like(w)
    radius2 = np.empty(seeds)

    def split(i):
        xi, yi = x[i], y[i]
        z = np.matmul(xi, w[:, i].T[..., None])[..., 0]
        distance = np.abs(z) / lengths[i]
        rows = np.arange(len(z))[:, None]
        if near < n:
            order = np.argpartition(distance, near, axis=1)  # the near ones first, then the next
            radius2[i] = distance[rows[:, 0], order[:, near]] ** 2
        else:
            order, radius2[i] = np.broadcast_to(np.arange(n), z.shape), np.inf
        closest = order[:, :near]
        x_near[:, :, i] = xi[rows, closest].transpose(1, 2, 0)
        stacked[dim:, :, i] = x_near[:, :, i] / n
        y_near[:, i] = yi[rows, closest].T / n
        far_active = z > 0
        far_active[rows, closest] = False
        xa = xi * far_active[..., None]
        stacked[:dim, :, i] = (np.matmul(xa.transpose(0, 2, 1), xi) / n).transpose(1, 2, 0)
        b[:, i] = np.matmul(yi[:, None, :], xa)[:, 0].T / n
        anchor[:, i] = w[:, i]

    split(slice(None))
    sign0 = np.sign(a)
    lowest = a * sign0  # the smallest a * sign(a0) seen: negative once a changed sign
    for _ in range(steps):
        moved = w - anchor
        moved2 = np.einsum("ds,ds->s", moved, moved)
        # stale: w left the ball around the anchor (radius 0 when w = 0 exactly, e.g. after an
        # underflow: nothing is active there, w stays 0). Split the seeds half way there too, so
        # that splits come fewer and larger.
        if np.any((moved2 >= radius2) & (moved2 > 0)):
            split(np.flatnonzero((moved2 >= 0.25 * radius2) & (moved2 > 0)))
        products = np.einsum("ijs,js->is", stacked, w)
        # dL/dw = a * residual and dL/da = w . residual, with residual = a M w - b plus, for each
        # near sample, 1[z > 0] (a z - y) x / n
        residual = a * products[:dim] - b
        if near:
            z = products[dim:]
            residual += np.einsum("ks,kds->ds", (z > 0) * (a * z - y_near), x_near)
        step = lr * residual
        grad_a_step = np.einsum("ds,ds->s", w, step)
        w -= a * step
        a -= grad_a_step
        np.minimum(lowest, a * sign0, out=lowest)
    return a, w.T.copy(), lowest < 0


def _train_1d(a, w, x, y, lr, steps):
    """`train` for D = 1, where the active set is x > 0 or x < 0 by the sign of w (none at 0)."""
    a = np.array(a, dtype=np.float64)
    w = np.array(w, dtype=np.float64)[:, 0]
    x = x[..., 0]
    m_pos, m_neg = np.mean(x ** 2 * (x > 0), axis=1), np.mean(x ** 2 * (x < 0), axis=1)
    b_pos, b_neg = np.mean(x * y * (x > 0), axis=1), np.mean(x * y * (x < 0), axis=1)
    sign0 = np.sign(a)
    lowest = a * sign0
    for _ in range(steps):
        positive = w > 0
        residual = a * np.where(positive, m_pos, m_neg) * w - np.where(
            positive, b_pos, np.where(w < 0, b_neg, 0.0))
        step = lr * residual
        # the same products for a and w: a = -w (balanced, a0 < 0 < w0) then holds exactly, as in
        # the flow, instead of rounding errors pushing it off this saddle's stable manifold
        grad_a_step = w * step
        w -= a * step
        a -= grad_a_step
        np.minimum(lowest, a * sign0, out=lowest)
    return a, w[:, None], lowest < 0


def run(dim, seeds, seed=0, init="balanced", n=100, lr=0.01, steps=60000, threshold=1e-3):
    """Trains, prunes to one input and retrains IMP-style and LRR-style, for `seeds` problems.

    For D > 1: (1) train (a, w) from (a0, w0) by `train`; (2) keep the input i with the largest
    trained |w_i| (the mask is correct when i is x_1); (3) IMP retrains the 1-input neuron from the
    rewound (a0, w0_i), LRR from the trained (a, w_i), with the same GD. For D = 1 there is nothing
    to prune: one training from (a0, w0) is reported as both IMP and LRR, the mask always correct.

    Success = mask correct and `relative_loss` < threshold, i.e. w_1 > 0 and
    |a * w_1 - 1| < sqrt(threshold): the pruned neuron represents relu(x_1).

    Theory (gradient flow from a balanced start, where a^2 - |w|^2 = 0 is conserved and a keeps
    its sign): IMP succeeds iff a0 > 0 and w1_0 > 0; LRR (D > 1) iff a0 > 0. GD conserves
    a^2 - |w|^2 up to O(lr^2) per step: measured at D = 10, lr = 0.01, 60,000 steps, 1,000 seeds,
    a crossed zero in 7 seeds. At D = 2 the dense neuron also dies (a, w -> 0) in 1.4% of seeds
    with a0 > 0 whose w0 points within ~20 degrees of -e_1. Exact for any init: the rewound
    one-input flow conserves a^2 - w_1^2, so IMP succeeds iff the mask is correct, w1_0 > 0 and
    a0 > -w1_0 (with uniform init a can flip there).

    Args:
        dim: input dimension D >= 1.
        seeds: number of independent problems.
        seed: seed of the one generator that draws all data and initializations (`draw`).
        init: "balanced" or "uniform" (see `draw`).
        n: samples per problem.
        lr: GD step size.
        steps: GD steps of each training (dense, IMP, LRR).
        threshold: success threshold on `relative_loss`.

    Returns:
        A JSON-serializable dict: the arguments; "imp" and "lrr" with "success_rate",
        "mask_correct_rate" and "theory_rate" (the fraction the balanced-start theory predicts
        to succeed: a0 > 0 and w1_0 > 0 for IMP and for D = 1, a0 > 0 for LRR);
        "imp_matches_theory" and "lrr_matches_theory" (fraction of seeds where success equals
        that prediction, for either init), "imp_matches_1d_rule" (the same for the exact IMP
        rule above); per-seed lists "a0", "w1_0", "kept" (index of the kept input),
        "mask_correct", "imp_success", "lrr_success", "imp_loss" and "lrr_loss" (relative),
        "imp_aw" and "lrr_aw" (final a * w_kept), "dense_changed_sign" (a changed sign in the
        first training) and "dense_drift" (change of a^2 - |w|^2 in the first training); "seconds".

    Example:
        >>> r = run(dim=2, seeds=4, steps=100)
        >>> r["imp"]["success_rate"] <= r["lrr"]["success_rate"], len(r["imp_success"])
        (True, 4)
    """
    check_args(dim, seeds, seed, init, n, lr, steps, threshold)
    start = time.perf_counter()
    x, y, a0, w0 = draw(dim, seeds, seed, init, n)
    rows = np.arange(seeds)
    a, w, changed = train(a0, w0, x, y, lr, steps)
    drift = (a ** 2 - np.sum(w ** 2, axis=1)) - (a0 ** 2 - np.sum(w0 ** 2, axis=1))
    kept = np.argmax(np.abs(w), axis=1)
    x_kept = x[rows, :, kept][..., None]
    if dim == 1:
        imp = lrr = (a, w)
    else:
        imp = train(a0, w0[rows, kept][:, None], x_kept, y, lr, steps)[:2]
        lrr = train(a, w[rows, kept][:, None], x_kept, y, lr, steps)[:2]
    mask_correct = kept == 0
    imp_theory = (a0 > 0) & (w0[:, 0] > 0)
    lrr_theory = a0 > 0 if dim > 1 else imp_theory
    # the rewound one-input flow conserves a^2 - w_1^2 and, for w_1 > 0, raises a negative a:
    # a reaches 0 iff a0^2 < w1_0^2
    imp_rule = mask_correct & (w0[:, 0] > 0) & (a0 + w0[:, 0] > 0)
    results = dict(dim=dim, seeds=seeds, seed=seed, init=init, n=n, lr=lr, steps=steps,
                   threshold=threshold)
    per_seed = dict(a0=a0, w1_0=w0[:, 0], kept=kept, mask_correct=mask_correct,
                    dense_changed_sign=changed, dense_drift=drift)
    for name, (a_end, w_end), theory in (("imp", imp, imp_theory), ("lrr", lrr, lrr_theory)):
        rel = relative_loss(a_end, w_end, x_kept, y)
        success = mask_correct & (rel < threshold)
        results[name] = dict(success_rate=float(success.mean()),
                             mask_correct_rate=float(mask_correct.mean()),
                             theory_rate=float(theory.mean()))
        results[f"{name}_matches_theory"] = float(np.mean(success == theory))
        if name == "imp":
            results["imp_matches_1d_rule"] = float(np.mean(success == imp_rule))
        per_seed.update({f"{name}_success": success, f"{name}_loss": rel,
                         f"{name}_aw": a_end * w_end[:, 0]})
    results.update({key: value.tolist() for key, value in per_seed.items()})
    results["seconds"] = time.perf_counter() - start
    return results


def _save(fig, path):
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def plot_quadrants(results, path):
    """Scatters a(0) against w_1(0), colored by success (the paper's Figure 1 for D = 1).

    Args:
        results: a dict returned by `run`; D = 1 gives one panel, D > 1 one for IMP and one for LRR.
        path: the PNG to write.
    """
    a0, w1 = np.array(results["a0"]), np.array(results["w1_0"])
    panels = [("IMP", "imp_success"), ("LRR", "lrr_success")] if results["dim"] > 1 else [
        ("gradient descent", "imp_success")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.6), dpi=150,
                             squeeze=False)
    for ax, (title, key) in zip(axes[0], panels):
        success = np.array(results[key], dtype=bool)
        ax.scatter(w1[~success], a0[~success], s=6, c="tab:red", label="fails")
        ax.scatter(w1[success], a0[success], s=6, c="tab:green", label="learns relu(x_1)")
        ax.axhline(0, color="k", lw=0.6)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_xlabel("$w_1(0)$")
        ax.set_ylabel("$a(0)$")
        ax.set_title(f"{title}, D={results['dim']}, {results['init']} init: "
                     f"{success.mean():.2f}", fontsize=9)
    axes[0][0].legend(fontsize=7, loc="lower left")
    _save(fig, path)


def plot_success_vs_dim(results_by_dim, path):
    """Plots IMP and LRR success rates against D; dashed: the theory's rates for balanced init.

    Args:
        results_by_dim: {dim (int or str): a dict returned by `run`}.
        path: the PNG to write.
    """
    runs = sorted(results_by_dim.values(), key=lambda r: r["dim"])
    dims = [r["dim"] for r in runs]
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=150)
    for name, color in (("imp", "tab:blue"), ("lrr", "tab:orange")):
        rates = np.array([r[name]["success_rate"] for r in runs])
        errors = [np.sqrt(p * (1 - p) / r["seeds"]) for p, r in zip(rates, runs)]
        ax.errorbar(dims, rates, yerr=errors, marker="o", markersize=4, capsize=3, color=color,
                    label=name.upper())
        if all(r["init"] == "balanced" for r in runs):
            # a0 > 0 and w1_0 > 0 have probability 1/2 each; LRR needs only a0 > 0 when D > 1
            theory = [0.25 if name == "imp" or d == 1 else 0.5 for d in dims]
            ax.plot(dims, theory, ls="--", color=color, label=f"{name.upper()} theory")
    ax.set_xscale("log")
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.minorticks_off()
    ax.set_ylim(0, 1)
    ax.set_xlabel("input dimension D")
    ax.set_ylabel("fraction of seeds learning relu(x_1)")
    ax.set_title(f"single neuron, {runs[0]['init']} init", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    _save(fig, path)
