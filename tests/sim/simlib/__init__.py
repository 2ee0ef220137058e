# SPDX-License-Identifier: ISC
"""The lifecycle simulation's parts (tests/sim/README)."""
