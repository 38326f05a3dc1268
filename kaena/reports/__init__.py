"""Reports over a compiled or simulated NEFF: compile summary, run profile, instance estimates."""
