"""The command front ends: argument parsing and printing for each `burstdeblur` sub-command; they call the libraries in burstdeblur.runtime and burstdeblur.export, never the reverse."""
