"""What a round of pruning needs inside any `fit`: callbacks, the round's LR schedule, the
saved training state."""
