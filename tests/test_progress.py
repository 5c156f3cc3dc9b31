import pytest

from windforce.progress import progress_bar, progress_enabled


@pytest.mark.parametrize(
    ("env", "arg", "expected"),
    [
        ("1", None, True),
        ("0", None, False),
        ("yes", None, True),
        ("1", False, False),
        ("0", True, True),
    ],
)
def test_progress_resolution(monkeypatch, env, arg, expected):
    monkeypatch.setenv("WINDFORCE_PROGRESS", env)
    assert progress_enabled(arg) is expected


def test_disabled_bar_is_transparent(monkeypatch):
    monkeypatch.setenv("WINDFORCE_PROGRESS", "0")
    with progress_bar(total=3) as bar:
        bar.update()
    assert list(progress_bar(range(3))) == [0, 1, 2]


def test_enabled_bar_writes_to_stderr(capsys):
    assert list(progress_bar(range(3), progress=True, desc="work")) == [0, 1, 2]
    assert "work" in capsys.readouterr().err
