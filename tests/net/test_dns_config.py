"""The ops config's `dns:` section: defaults like a pod's, validated keys named on error."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_ops_config


def test_default_is_the_system_resolver_on_the_standard_cluster_domain() -> None:
    dns = load_ops_config(None).dns
    assert (dns.nameservers, dns.port, dns.cluster_domain, dns.timeout_s) == ((), 53, "cluster.local", 2.0)


@pytest.mark.parametrize(("overlay", "key"), [
    ("dns: {nameservers: [coredns.local]}", "dns.nameservers"),
    ("dns: {port: 0}", "dns.port"),
    ("dns: {cluster_domain: 'Cluster_Local'}", "dns.cluster_domain"),
    ("dns: {timeout_s: 0}", "dns.timeout_s"),
    ("dns: {search: [x]}", "dns.search"),
])
def test_bad_values_name_the_key(tmp_path: Path, overlay: str, key: str) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(overlay, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_ops_config(path)


def test_an_overlay_sets_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text("dns: {nameservers: ['10.96.0.10', 'fd00::10'], port: 5353}", encoding="utf-8")
    dns = load_ops_config(path).dns
    assert dns.nameservers == ("10.96.0.10", "fd00::10") and dns.port == 5353
    assert dns.cluster_domain == "cluster.local"
