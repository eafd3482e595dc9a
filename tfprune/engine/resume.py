"""Resume arithmetic: the epoch each round starts and goes on from, and the epochs left.

A round starts at epoch 0 (the dense round; LRR and FT) or at the rewind epoch (IMP resumes
the schedule there). Before its first epoch the engine saves the round's starting state into
its resume folder, and after every saved epoch the state then; a process that finds a resume
folder goes on from the epoch its progress.json names, as if never stopped.
"""


def first_epoch(config, method, r):
    """The epoch round `r` starts at: 0 for the dense round, the method's for pruned ones."""
    return method.initial_epoch(config.rewind_epoch) if r else 0


def resume_epoch(config, method, r, resumed):
    """The epoch round `r` goes on from: after the epoch its resume folder's progress
    (`resumed`, a progress.json or None) names, or at its first epoch."""
    return resumed["epoch"] if resumed else first_epoch(config, method, r)


def epochs_to_train(config, method, first_round, resumed):
    """The epochs this process has to train, from round `first_round` (resumed as `resumed`
    says) on, for the ETA."""
    return sum(config.epochs - (resume_epoch(config, method, r, resumed) if r == first_round
                                else first_epoch(config, method, r))
               for r in range(first_round, config.rounds + 1))
