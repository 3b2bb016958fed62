"""The regional planner: rank a region's halls, value every fix per store, plan a budget, move staff.

Pure planning logic on validated :class:`~storeq.region.model.Region` objects; files are read only in
:mod:`storeq.region.io`, and the CP-SAT models live in :mod:`optimizer.region`. See docs/region.md.
"""
