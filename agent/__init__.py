"""onboard: a guided agent that gets an exchange API key made, captured and verified."""

import os

__version__ = "0.1.0"

# No pydantic plugin is loaded in the agent's process. A plugin is any installed package's
# entry point in the `pydantic` group (observability tools ship them), and pydantic hands it
# every input a model validates: the agent validates the key's passphrase (agent.request).
# Set before any model is built (pydantic reads it at the first), it also spares the scan of
# every installed package's entry points there (8 to 13 ms of CPU a process).
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
