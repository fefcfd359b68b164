//! Named network presets: typical access networks, each with its numbers
//! and where they come from.
//!
//! A preset sets a path's RTT, its bandwidth in each direction, its random
//! loss and its jitter; everything else (queue of one BDP, MTU 1500, no
//! reordering) keeps the lab's defaults. A scenario names one with
//! `network.preset = "lte"` and may override any field on top of it. The
//! table with sources is in `docs/scenarios.md`.

/// One named network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preset {
    /// The name scenario files and the command line use, e.g. `"lte"`.
    pub name: &'static str,
    /// One line for `httplab list`.
    pub description: &'static str,
    /// Round-trip propagation delay, in milliseconds.
    pub rtt_ms: f64,
    /// Bottleneck rate server → client, in Mbit/s.
    pub down_mbit: f64,
    /// Bottleneck rate client → server, in Mbit/s.
    pub up_mbit: f64,
    /// Random loss in percent, both directions; 0 is none.
    pub loss_percent: f64,
    /// Mean loss-burst length in packets when the loss is bursty
    /// (Gilbert–Elliott); `None` is independent (Bernoulli) loss.
    pub loss_burst: Option<f64>,
    /// Maximum extra delay per packet, in milliseconds (without reordering).
    pub jitter_ms: f64,
    /// Where the numbers come from, with what was taken as is and what was
    /// chosen by the lab.
    pub source: &'static str,
}

const PRESETS: &[Preset] = &[
    Preset {
        name: "fiber",
        description: "fibre to the home: 20/5 Mbit/s, 4 ms RTT",
        rtt_ms: 4.0,
        down_mbit: 20.0,
        up_mbit: 5.0,
        loss_percent: 0.0,
        loss_burst: None,
        jitter_ms: 0.0,
        source: "profile [FIOS] \"FIOS (20/5 Mbps 4ms RTT)\", plr 0, in WebPageTest's \
                 connectivity profiles, www/settings/connectivity.ini.sample in \
                 github.com/catchpoint/WebPageTest",
    },
    Preset {
        name: "cable",
        description: "cable broadband: 5/1 Mbit/s, 28 ms RTT",
        rtt_ms: 28.0,
        down_mbit: 5.0,
        up_mbit: 1.0,
        loss_percent: 0.0,
        loss_burst: None,
        jitter_ms: 0.0,
        source: "profile [Cable] \"Cable (5/1 Mbps 28ms RTT)\", plr 0, in WebPageTest's \
                 connectivity profiles, www/settings/connectivity.ini.sample in \
                 github.com/catchpoint/WebPageTest",
    },
    Preset {
        name: "wifi",
        description: "home Wi-Fi on broadband: 30/15 Mbit/s, 21 ms RTT",
        rtt_ms: 21.0,
        down_mbit: 30.0,
        up_mbit: 15.0,
        loss_percent: 0.0,
        loss_burst: None,
        jitter_ms: 0.0,
        source: "bandwidth: WebdriverIO's throttleNetwork preset 'WiFi' (30/15 Mbit/s), \
                 packages/webdriverio/src/commands/browser/throttleNetwork.ts in \
                 github.com/webdriverio/webdriverio; RTT: median ping RTT of home broadband \
                 ('Last Mile') agents to Google, 21 ms, measured by Catchpoint: M. Daoudi, \
                 Web Performance Calendar 2013, \
                 https://calendar.perfplanet.com/2013/network-latency-4g/",
    },
    Preset {
        name: "lte",
        description: "mobile LTE: 12/12 Mbit/s, 70 ms RTT",
        rtt_ms: 70.0,
        down_mbit: 12.0,
        up_mbit: 12.0,
        loss_percent: 0.0,
        loss_burst: None,
        jitter_ms: 0.0,
        source: "profile [LTE] \"Mobile LTE (12 Mbps/12 Mbps 70ms RTT)\", plr 0, in \
                 WebPageTest's connectivity profiles, www/settings/connectivity.ini.sample in \
                 github.com/catchpoint/WebPageTest (commit 6a79fedb6bb5792f11d2891d9ae80f8ffb8b1a7d)",
    },
    Preset {
        name: "3g",
        description: "mobile 3G: 1.6 Mbit/s down, 768 kbit/s up, 300 ms RTT",
        rtt_ms: 300.0,
        down_mbit: 1.6,
        up_mbit: 0.768,
        loss_percent: 0.0,
        loss_burst: None,
        jitter_ms: 0.0,
        source: "profile [3G] \"Mobile 3G (1.6 Mbps/768 Kbps 300ms RTT)\", plr 0, in \
                 WebPageTest's connectivity profiles, www/settings/connectivity.ini.sample in \
                 github.com/catchpoint/WebPageTest",
    },
    Preset {
        name: "satellite",
        description: "geostationary satellite: 25/5 Mbit/s, 600 ms RTT",
        rtt_ms: 600.0,
        down_mbit: 25.0,
        up_mbit: 5.0,
        loss_percent: 0.0,
        loss_burst: None,
        jitter_ms: 0.0,
        source: "RTT: G. Huston, 'Testing LEO and GEO satellite services in Australia', \
                 APNIC blog, 2 May 2022, https://blog.apnic.net/2022/05/02/testing-leo-and-\
                 geo-satellite-services-in-australia/ (a path with a GEO hop 'will generally \
                 see RTT measurements of around 600ms'); bandwidth: the 25/5 Mbps peak access \
                 rate of NBN Sky Muster Plus plans, https://www.activ8me.net.au/internet/\
                 skymuster-plus",
    },
    Preset {
        name: "lossy-wifi",
        description: "lossy Wi-Fi: the wifi preset with 5 % loss in bursts of 2 packets",
        rtt_ms: 21.0,
        down_mbit: 30.0,
        up_mbit: 15.0,
        loss_percent: 5.0,
        loss_burst: Some(2.0),
        jitter_ms: 0.0,
        source: "path: the wifi preset; loss: str0m's network emulator preset \
                 GilbertElliot::wifi_lossy() ('Lossy WiFi: frequent short bursts (~5% \
                 loss)', about 40 packets between bursts of about 2), netem/src/config.rs in \
                 github.com/algesten/str0m; an emulator's preset, not a measurement",
    },
];

/// Every preset, in the order `httplab list` shows them.
pub fn presets() -> &'static [Preset] {
    PRESETS
}

/// The preset called `name`, if there is one.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The preset names, comma-separated, for error messages.
pub(crate) fn preset_names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}
