"""Use cases of the Learner Register and the PLR, over a unit of work."""
