from emberkv.config import Config, ConfigError, parse_memory
from emberkv.util.glob import glob_match

import pytest


@pytest.mark.parametrize("pat,s,ok", [
    (b"*", b"anything", True), (b"h?llo", b"hello", True), (b"h*llo", b"hllo", True),
    (b"h[ae]llo", b"hallo", True), (b"h[^e]llo", b"hello", False), (b"h[a-b]llo", b"hbllo", True),
    (b"h\\*llo", b"h*llo", True), (b"h\\*llo", b"hxllo", False), (b"a*b*c", b"a-b-x", False),
    (b"[z-a]", b"m", True), (b"*\n*", b"a\nb", True),
])
def test_glob(pat, s, ok):
    assert glob_match(pat, s) is ok


def test_memory_units():
    assert parse_memory("1kb") == 1024 and parse_memory("1k") == 1000 and parse_memory("2GB") == 2 * 1024 ** 3
    assert parse_memory("-1") is None and parse_memory("12x") is None


def test_config_set_get_and_errors():
    c = Config()
    c.set("maxmemory", ["10mb"])
    assert c.get_matching("maxmemory")["maxmemory"] == str(10 * 1024 * 1024)
    with pytest.raises(ConfigError, match="argument must be a memory value"):
        c.set("maxmemory", ["ten"])
    with pytest.raises(ConfigError, match="argument must be 'yes' or 'no'"):
        c.set("appendonly", ["maybe"])
    c.set("notify-keyspace-events", ["KEA"])
    assert c.get_matching("notify-keyspace-events")["notify-keyspace-events"] == "AKE"
    with pytest.raises(ConfigError, match="can't set immutable"):
        c.set("databases", ["4"])


def test_config_file_errors_name_the_line():
    c = Config()
    with pytest.raises(ConfigError) as e:
        c.load_lines("port 7000\nbogus-directive 1\n")
    assert "line 2" in str(e.value) and "bogus-directive" in str(e.value)
    c.load_lines('port 7001\nsave ""\n# comment\nhash-max-ziplist-entries 64\n')
    assert c.port == 7001 and c.save == "" and c.hash_max_listpack_entries == 64
