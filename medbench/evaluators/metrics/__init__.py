"""Every metric of the three papers, as pure functions on numpy arrays; each documents its
formula and its source."""
