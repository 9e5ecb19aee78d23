"""The engine: loads a flow file and carries it out in a page. It knows no exchange."""
