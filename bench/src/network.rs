//! From a scenario's resolved network to netsim's configuration.
//!
//! The `scenarios` crate resolves a scenario file (presets, defaults,
//! per-direction overrides, one sweep point) to a
//! [`scenarios::ResolvedNetwork`] of plain numbers; [`network_config`]
//! turns that into a [`NetworkConfig`], one field for one field. netsim
//! knows nothing of scenarios: this is the one place the two meet.

use std::time::Duration;

use netsim::{
    Blackout, ConfigError, Direction, Jitter, LinkConfig, LossModel, NetworkConfig, PathChange,
    PathConfig, QueueLimit, TargetedDrop,
};
use scenarios::{
    IpProtocol, ResolvedBlackout, ResolvedDrop, ResolvedLink, ResolvedLoss, ResolvedNetwork,
    ResolvedPath, ResolvedQueue,
};

/// The network of a resolved scenario, validated (the error names the
/// field, as [`NetworkConfig::validate`] does).
pub fn network_config(r: &ResolvedNetwork) -> Result<NetworkConfig, ConfigError> {
    let config = NetworkConfig {
        path: path(&r.path),
        targeted_drops: r.drops.iter().map(targeted_drop).collect(),
        blackouts: r.blackouts.iter().map(blackout).collect(),
        path_change: r.path_change.as_ref().map(|change| PathChange {
            at: Duration::from_nanos(change.at_ns),
            path: path(&change.path),
        }),
    };
    config.validate()?;
    Ok(config)
}

fn direction(d: scenarios::Direction) -> Direction {
    match d {
        scenarios::Direction::Up => Direction::Up,
        scenarios::Direction::Down => Direction::Down,
    }
}

fn path(p: &ResolvedPath) -> PathConfig {
    PathConfig {
        up: link(&p.up),
        down: link(&p.down),
    }
}

fn link(l: &ResolvedLink) -> LinkConfig {
    LinkConfig {
        delay: Duration::from_nanos(l.delay_ns),
        jitter: Jitter {
            max: Duration::from_nanos(l.jitter_ns),
            allow_reorder: l.reorder,
        },
        bandwidth_bps: l.bandwidth_bps,
        queue: match l.queue {
            ResolvedQueue::Packets(n) => QueueLimit::Packets(n),
            ResolvedQueue::Bytes(n) => QueueLimit::Bytes(n),
        },
        mtu: l.mtu,
        loss: match l.loss {
            ResolvedLoss::None => LossModel::None,
            ResolvedLoss::Bernoulli { rate } => LossModel::Bernoulli { rate },
            ResolvedLoss::GilbertElliott {
                mean_loss,
                mean_burst,
            } => LossModel::GilbertElliott {
                mean_loss,
                mean_burst,
            },
        },
    }
}

fn targeted_drop(d: &ResolvedDrop) -> TargetedDrop {
    TargetedDrop {
        direction: direction(d.direction),
        nth: d.nth,
        flow: d.flow,
        data_only: d.data_only,
    }
}

fn blackout(b: &ResolvedBlackout) -> Blackout {
    Blackout {
        start: Duration::from_nanos(b.start_ns),
        end: Duration::from_nanos(b.end_ns),
        direction: b.direction.map(direction),
        protocol: b.protocol.map(IpProtocol::number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenarios::Scenario;

    fn network_of(toml: &str) -> NetworkConfig {
        let scenario = Scenario::from_toml(toml, "test.toml").unwrap();
        network_config(&scenario.base_network()).unwrap()
    }

    #[test]
    fn the_default_scenario_is_netsims_default_network() {
        let page = Scenario::builtin("page").unwrap();
        for run in page.expand() {
            assert_eq!(
                network_config(&run.network).unwrap(),
                NetworkConfig::default()
            );
        }
        assert_eq!(network_of("name = \"x\""), NetworkConfig::default());
    }

    #[test]
    fn a_loss_point_is_netsims_symmetric_path_with_that_loss() {
        let sweep = Scenario::builtin("loss-sweep").unwrap();
        let run = sweep
            .expand()
            .into_iter()
            .find(|r| r.axes.get("loss_percent") == Some(&2.0))
            .unwrap();
        assert_eq!(
            network_config(&run.network).unwrap(),
            NetworkConfig {
                path: PathConfig::from_units(50.0, 10.0, 2.0).unwrap(),
                ..NetworkConfig::default()
            }
        );
    }

    #[test]
    fn every_shipped_scenario_builds_a_valid_network() {
        for name in Scenario::builtin_names() {
            for run in Scenario::builtin(name).unwrap().expand() {
                network_config(&run.network)
                    .unwrap_or_else(|e| panic!("{name} {}: {e}", run.key()));
            }
        }
    }

    #[test]
    fn every_preset_builds_a_valid_network() {
        for p in scenarios::presets() {
            let toml = format!("name = \"x\"\n[network]\npreset = \"{}\"\n", p.name);
            let config = network_of(&toml);
            assert_eq!(
                config.path.base_rtt(),
                Duration::from_secs_f64(p.rtt_ms / 1e3)
            );
            assert_eq!(
                config.path.down.bandwidth_bps,
                (p.down_mbit * 1e6).round() as u64
            );
        }
    }

    #[test]
    fn events_and_directions_carry_over() {
        let config = network_of(
            r#"
            name = "x"
            [network]
            rtt_ms = 40
            loss = { model = "gilbert-elliott", percent = 2, burst = 3 }
            jitter_ms = 1.5
            reorder = true
            [network.up]
            bandwidth_mbit = 2
            queue = { bytes = 30000 }
            loss = "none"
            [[network.events]]
            type = "drop"
            direction = "down"
            nth = 7
            flow = 1
            data_only = true
            [[network.events]]
            type = "blackout"
            from_ms = 500
            until_ms = 800
            [[network.events]]
            type = "path_change"
            at_ms = 1000
            to = { preset = "lte" }
            "#,
        );
        assert_eq!(config.path.up.delay, Duration::from_millis(20));
        assert_eq!(config.path.up.bandwidth_bps, 2_000_000);
        assert_eq!(config.path.up.queue, QueueLimit::Bytes(30_000));
        assert_eq!(config.path.up.loss, LossModel::None);
        assert_eq!(
            config.path.down.loss,
            LossModel::GilbertElliott {
                mean_loss: 0.02,
                mean_burst: 3.0
            }
        );
        assert_eq!(
            config.path.down.jitter,
            Jitter {
                max: Duration::from_micros(1500),
                allow_reorder: true
            }
        );
        // 10 Mbit/s × 40 ms = 50 000 bytes → 34 packets of 1500.
        assert_eq!(config.path.down.queue, QueueLimit::Packets(34));
        assert_eq!(
            config.targeted_drops,
            [TargetedDrop {
                direction: Direction::Down,
                nth: 7,
                flow: Some(1),
                data_only: true
            }]
        );
        assert_eq!(
            config.blackouts,
            [Blackout {
                start: Duration::from_millis(500),
                end: Duration::from_millis(800),
                direction: None,
                protocol: None,
            }]
        );
        let change = config.path_change.unwrap();
        assert_eq!(change.at, Duration::from_secs(1));
        assert_eq!(change.path.base_rtt(), Duration::from_millis(70));
        assert_eq!(change.path.up.bandwidth_bps, 12_000_000);
    }
}
