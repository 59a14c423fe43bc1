"""camsim processes for tests: the same launcher scripts/develop and the benchmarks use."""

from scripts.lib.sims import Sim, running_sim, start_sim, stop_sim

__all__ = ["Sim", "running_sim", "start_sim", "stop_sim"]
