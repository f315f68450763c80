"""``make bench``: Knee Routine measured against the ASK hello-world skill, side by side."""
