"""Planning: which cells a run executes (stage 2).

* `cells`: scenario x version x Python (x platform, axes) cells, skips decided up
  front; `CellKey` and `cell_key`, a cell's one identity.
* `versions`: version selectors (`0.13.4`, `'>=0.12'`, `latest-3`, `minors`).
* `shards`: splitting a plan into N shards for CI fan-out, balanced by cost.
"""
