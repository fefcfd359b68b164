//! Bad input: impossible link parameters are rejected with an error that
//! names the field, before anything runs.

use std::time::Duration;

use netsim::{
    ConfigError, LossModel, NetworkConfig, PathConfig, QueueLimit, SimConfig, Simulation,
};

fn field_of(result: Result<Simulation, ConfigError>) -> String {
    match result {
        Ok(_) => panic!("accepted an impossible configuration"),
        Err(e) => {
            eprintln!("{e}");
            e.field
        }
    }
}

fn with(change: impl FnOnce(&mut NetworkConfig)) -> Result<Simulation, ConfigError> {
    let mut network = NetworkConfig::default();
    change(&mut network);
    Simulation::new(SimConfig {
        network,
        ..SimConfig::default()
    })
}

#[test]
fn loss_above_100_percent() {
    let f = field_of(with(|n| {
        n.path.up.loss = LossModel::Bernoulli { rate: 1.5 }
    }));
    assert_eq!(f, "network.path.up.loss.rate");
    let e = PathConfig::from_units(50.0, 10.0, 150.0).unwrap_err();
    assert_eq!(e.field, "loss_percent");
}

#[test]
fn negative_delay() {
    let e = PathConfig::from_units(-5.0, 10.0, 0.0).unwrap_err();
    assert_eq!(e.field, "rtt_ms");
    assert!(e.to_string().contains("rtt_ms"), "{e}");
    let e = PathConfig::from_units(f64::NAN, 10.0, 0.0).unwrap_err();
    assert_eq!(e.field, "rtt_ms");
}

#[test]
fn zero_bandwidth() {
    let f = field_of(with(|n| n.path.down.bandwidth_bps = 0));
    assert_eq!(f, "network.path.down.bandwidth_bps");
    let e = PathConfig::from_units(50.0, 0.0, 0.0).unwrap_err();
    assert_eq!(e.field, "bandwidth_mbit");
}

#[test]
fn mtu_below_1280() {
    let f = field_of(with(|n| n.path.up.mtu = 1000));
    assert_eq!(f, "network.path.up.mtu");
}

#[test]
fn gilbert_elliott_burst_below_one() {
    let f = field_of(with(|n| {
        n.path.up.loss = LossModel::GilbertElliott {
            mean_loss: 0.02,
            mean_burst: 0.5,
        }
    }));
    assert_eq!(f, "network.path.up.loss.mean_burst");
}

#[test]
fn empty_queue() {
    let f = field_of(with(|n| n.path.down.queue = QueueLimit::Packets(0)));
    assert_eq!(f, "network.path.down.queue");
}

#[test]
fn path_change_is_validated_too() {
    let f = field_of(with(|n| {
        let mut path =
            PathConfig::symmetric(Duration::from_millis(60), 10_000_000, LossModel::None);
        path.down.mtu = 100;
        n.path_change = Some(netsim::PathChange {
            at: Duration::from_secs(1),
            path,
        });
    }));
    assert_eq!(f, "network.path_change.path.down.mtu");
}

#[test]
fn zero_time_limit() {
    let e = Simulation::new(SimConfig {
        time_limit: Duration::ZERO,
        ..SimConfig::default()
    })
    .unwrap_err();
    assert_eq!(e.field, "time_limit");
}

#[test]
fn run_past_its_time_limit_ends_with_a_timeout() {
    // 10 MB at 10 Mbit/s needs 8 s; give it 2.
    let config = SimConfig {
        time_limit: Duration::from_secs(2),
        ..SimConfig::default()
    };
    let out = netsim::probe::download(config, netsim::probe::Transport::Quic, vec![10_000_000]);
    assert_eq!(
        out.outcome.unwrap_err(),
        netsim::RunError::Timeout {
            limit: Duration::from_secs(2)
        }
    );
    assert!(out.elapsed >= Duration::from_secs(2));
}
