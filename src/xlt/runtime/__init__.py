"""What any long-running part of xlt stands on: atomic writes, locks, sealed directories, stop signals, fault
injection, the CPU, several processes of one launch, and what a process prints. Imports nothing else of xlt but
`xlt.errors` (and the task model's type)."""
