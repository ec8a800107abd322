"""A recorder of an item model's structural signals, shared by the table model tests."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, QModelIndex


class SignalLog:
    """Records what a model announced: insertions, removals, changes, resets, layouts, and
    ``countsChanged`` when the model has it."""

    def __init__(self, model: QAbstractItemModel) -> None:
        self.inserted: list[tuple[int, int]] = []
        self.removed: list[tuple[int, int]] = []
        self.changed: list[tuple[int, int, int, int]] = []
        """``(first row, last row, first column, last column)`` of each ``dataChanged``."""
        self.roles: list[list[int]] = []
        """The roles of each ``dataChanged`` (empty: all of them)."""
        self.resets = 0
        self.layouts = 0
        self.counts = 0
        model.rowsInserted.connect(lambda _p, first, last: self.inserted.append((first, last)))
        model.rowsRemoved.connect(lambda _p, first, last: self.removed.append((first, last)))
        model.dataChanged.connect(self._changed)
        model.modelReset.connect(self._reset)
        model.layoutChanged.connect(self._layout)
        counts_changed = getattr(model, "countsChanged", None)
        if counts_changed is not None:
            counts_changed.connect(self._counted)

    def _changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: Sequence[int] = ()
    ) -> None:
        self.changed.append(
            (top_left.row(), bottom_right.row(), top_left.column(), bottom_right.column())
        )
        self.roles.append([int(role) for role in roles])

    def _reset(self) -> None:
        self.resets += 1

    def _layout(self) -> None:
        self.layouts += 1

    def _counted(self) -> None:
        self.counts += 1
