"""What-if: tune the thresholds on real history before changing them (issue 5)."""

from dashboard import what_if

what_if.render()
