"""The fuzz: the real agent on seeded page mutations, judged by what the exchange recorded.

`python -m tests.fuzz --seeds 100` (what `make fuzz` runs) serves one replica for the whole
run and resets it per case to `logged-in` plus the seed's mutations
(`replica/mutations.py`). Each seed runs the main-account case; a share also a
sub-account and a multi-draft case. Unattended runs are the real `onboard run` command
(`replica/repro.py`); guided runs (`--guided`) drive `agent.run.execute` in a visible
browser with the drift handover on and a scripted person (`replica/person.py`) answering
it. Every run is judged by the replica's records and the vault, never by the agent's word
(`judge.py`); the table and the JSON come from `report.py`.
"""
