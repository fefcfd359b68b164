//! Serde for a `Duration` as whole nanoseconds (an integer), the lab's one
//! convention for durations in serialized records: use it as
//! `#[serde(rename = "x_ns", with = "tcp::nanos")]`, or [`option`] for an
//! `Option<Duration>` (`null` when absent), [`vec`] for a `Vec<Duration>`. Durations past `u64::MAX`
//! nanoseconds (584 years) saturate.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Whole nanoseconds in `d`, saturating at `u64::MAX`.
pub fn to_u64(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Write `d` as an integer count of nanoseconds.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(to_u64(*d))
}

/// Read an integer count of nanoseconds.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_nanos)
}

/// The same for an `Option<Duration>`: nanoseconds, or `null`.
pub mod option {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Write `d` as nanoseconds, or `None` as `null`.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&super::to_u64(*d)),
            None => s.serialize_none(),
        }
    }

    /// Read nanoseconds or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_nanos))
    }
}

/// The same for a `Vec<Duration>`: an array of nanoseconds.
pub mod vec {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Write each duration as nanoseconds.
    pub fn serialize<S: Serializer>(ds: &[Duration], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ds.iter().map(|d| super::to_u64(*d)))
    }

    /// Read an array of nanoseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        Ok(Vec::<u64>::deserialize(d)?
            .into_iter()
            .map(Duration::from_nanos)
            .collect())
    }
}
