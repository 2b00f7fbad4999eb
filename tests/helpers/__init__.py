"""What the tests share: strategies, JSON comparison, page walks, documentation blocks, ...

Test modules import these as ``tests.helpers.<module>`` (pytest puts the repository root on
``sys.path``: ``pythonpath`` in pyproject.toml) and never import one another;
``tests/test_test_imports.py`` checks that.
"""
