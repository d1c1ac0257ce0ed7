"""Root conftest: keep each notebook's cells in order when the test order is shuffled.

pytest-randomly (in the test extra) runs the tests in a new random order on every run, so that no
test can rely on another having run before it. A notebook is different: nbval collects each cell
as one test item, and cell 5 needs what cells 1-4 defined. pytest-randomly cannot tell which file
an nbval item belongs to (the items have no Python module), so it shuffles them like unrelated
tests. This hook runs after the shuffle and puts every notebook's cells back in notebook order, in
the slots the shuffle gave to notebook cells: the notebooks' own order stays random.
"""


def pytest_collection_modifyitems(config, items):
    slots = [i for i, item in enumerate(items) if hasattr(item, "cell_num")]  # nbval's IPyNbCell
    if not slots:
        return
    cells = [items[i] for i in slots]
    first_seen = {}
    for item in cells:
        first_seen.setdefault(item.parent.nodeid, len(first_seen))
    cells.sort(key=lambda item: (first_seen[item.parent.nodeid], item.cell_num))
    for i, item in zip(slots, cells, strict=True):
        items[i] = item
