"""The NodePort check: which ports are sampled, and open, refused and silent ports on loopback."""



from preflight_targets import closed_port, listeners, silent_port

from connect_analysis.preflight.nodeports import check_nodeports, sample_ports


def test_sample_ports_small_range_is_complete_and_large_range_is_sampled():
    assert sample_ports(30000, 30009) == list(range(30000, 30010))
    sample = sample_ports(30000, 32767, 128)
    assert len(sample) == 128 and sample[0] == 30000 and sample[-1] == 32767
    assert sample == sorted(set(sample))
    assert sample_ports(30000, 32767, 128) == sample  # deterministic


def test_nodeports_all_listening_passes():
    with listeners(4) as base:
        [result] = check_nodeports(["127.0.0.1"], (base, base + 3), timeout=0.5)
    assert result.ok and result.fix is None
    assert result.target == f"127.0.0.1:{base}-{base + 3}"
    assert result.detail.startswith(f"all 4 ports {base}-{base + 3}: 4 open, 0 refused")


def test_nodeports_refused_ports_count_as_reachable():
    port = closed_port()
    [result] = check_nodeports(["127.0.0.1"], (port, port), timeout=0.5)
    assert result.ok
    assert "0 open, 1 refused" in result.detail and "0 no answer" in result.detail


def test_nodeports_a_port_without_answer_fails():
    with listeners(1) as open_port, silent_port() as quiet:
        low, high = sorted((open_port, quiet))
        [result] = check_nodeports(["127.0.0.1"], (low, high), timeout=0.3, max_ports=2)
    assert not result.ok
    assert "1 open" in result.detail and "1 no answer within 0.3 s" in result.detail
    assert f"e.g. port {quiet}" in result.detail
    assert f"open TCP {low}-{high} from this host to 127.0.0.1" in result.fix


def test_nodeports_large_range_states_the_sample_size():
    results = check_nodeports(["127.0.0.1", "localhost"], (40000, 44999), timeout=0.3, max_ports=16)
    assert [r.target for r in results] == ["127.0.0.1:40000-44999", "localhost:40000-44999"]
    for r in results:
        assert "a sample of 16 of 5000 ports 40000-44999" in r.detail

