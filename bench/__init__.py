"""Benchmarks (`make bench`): the automated part of one onboarding, a batch, and sub-account keys
over REST, each on the replica, each failing when it misses its target. Not tests: pytest does
not collect them."""
