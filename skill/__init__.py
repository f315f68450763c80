"""Knee Routine: an Alexa skill that coaches a 10-minute home routine for knee pain."""
