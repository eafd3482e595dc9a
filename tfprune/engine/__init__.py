"""The experiment engine: config, methods, the round loop, resume, monitors, TensorBoard,
distribution."""
