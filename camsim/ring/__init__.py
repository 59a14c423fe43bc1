"""A simulated Ring cloud account (`python -m camsim ring`); see camsim/README.md, section Ring cloud."""
