"""Stages 5-6: explain an evaluation criterion by criterion, and render it as text or JSON."""
