"""A faithful, strict replica of OKX's API-key screens and REST auth, for tests and the demo.

It shares nothing with the agent but fixtures: the agent must find its way
around this app exactly as it would around okx.com.
"""
