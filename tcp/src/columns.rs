//! Long series in records as compact columns: the lab's one encoding of
//! the per-connection and per-request detail (segment arrivals, RTT
//! samples, body timelines), which would otherwise be most of a record.
//!
//! A series is written as one JSON object: `unit_ns`, the time unit, and
//! one array per field, all of the same length. Times are whole multiples
//! of `unit_ns`, which is the greatest common divisor of every time in the
//! series (1 000 000, one millisecond, in the simulation, whose events
//! land on its 1 ms grid; often 1 on real sockets), so nothing is lost.
//! A column is delta-encoded where its values grow (each value minus the
//! one before, the first minus 0): a time that advances by a tick is
//! written `1`. Decoding gives back exactly what was encoded.
//!
//! This module holds the arithmetic ([`unit`], [`deltas`], [`sums`],
//! [`Error`]); each series' serde sits beside its type. [`SegmentArrival`]'s
//! is [`arrivals`].
//!
//! [`SegmentArrival`]: crate::SegmentArrival

use std::fmt;

/// Why a series' columns do not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// `unit_ns` is 0.
    ZeroUnit,
    /// Two columns have different lengths.
    Lengths {
        /// The column whose length differs from the first one's.
        column: &'static str,
        /// Its length.
        len: usize,
        /// The first column's length.
        expected: usize,
    },
    /// A value falls outside what its field holds (a negative time, a
    /// length past `u32`), at this index of the column.
    OutOfRange {
        /// The column.
        column: &'static str,
        /// The index, from 0.
        index: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ZeroUnit => write!(f, "unit_ns is 0; it must be at least 1"),
            Error::Lengths {
                column,
                len,
                expected,
            } => write!(
                f,
                "column {column:?} has {len} values, the series {expected}"
            ),
            Error::OutOfRange { column, index } => {
                write!(f, "column {column:?}: value {index} is out of range")
            }
        }
    }
}

impl std::error::Error for Error {}

/// The time unit of a series whose times (in nanoseconds) are `times`:
/// their greatest common divisor, 1 if there are none or all are 0.
pub fn unit(times: impl IntoIterator<Item = u64>) -> u64 {
    let g = times.into_iter().fold(0, gcd);
    g.max(1)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Each of `values` minus the one before (the first minus 0), as signed
/// numbers: a column that only grows gives no negative ones.
pub fn deltas(values: impl IntoIterator<Item = u64>) -> Vec<i64> {
    let mut before = 0u64;
    values
        .into_iter()
        .map(|v| {
            let d = v.wrapping_sub(before) as i64;
            before = v;
            d
        })
        .collect()
}

/// The inverse of [`deltas`]: the running sums of `deltas`; an error names
/// `column` and the first index whose sum would be negative or past
/// `u64::MAX`.
pub fn sums(column: &'static str, deltas: &[i64]) -> Result<Vec<u64>, Error> {
    let mut total = 0u64;
    deltas
        .iter()
        .enumerate()
        .map(|(index, &d)| {
            total = total
                .checked_add_signed(d)
                .ok_or(Error::OutOfRange { column, index })?;
            Ok(total)
        })
        .collect()
}

/// That `columns` (name, length) all have the first one's length.
pub fn same_lengths(columns: &[(&'static str, usize)]) -> Result<(), Error> {
    let expected = columns.first().map_or(0, |c| c.1);
    match columns.iter().find(|c| c.1 != expected) {
        Some(&(column, len)) => Err(Error::Lengths {
            column,
            len,
            expected,
        }),
        None => Ok(()),
    }
}

/// A time in nanoseconds as a count of `unit` (which divides it).
pub fn in_units(ns: u64, unit: u64) -> u64 {
    ns / unit
}

/// A count of `unit` back in nanoseconds; an error names `column` and
/// `index` past `u64::MAX`.
pub fn to_ns(count: u64, unit: u64, column: &'static str, index: usize) -> Result<u64, Error> {
    count
        .checked_mul(unit)
        .ok_or(Error::OutOfRange { column, index })
}

/// Serde for `Option<Vec<SegmentArrival>>` as columns (`null` when
/// `None`):
///
/// - `unit_ns`: the time unit;
/// - `arrived`: arrival times in units, delta-encoded;
/// - `offset`: each segment's first new byte minus where the segment before
///   it ended (its offset plus its length; the first minus 0): 0 for a
///   segment in order, negative for one that fills a hole behind;
/// - `len`: new bytes carried;
/// - `readable`: how long after its arrival its bytes became readable, in
///   units, or `null` if never.
///
/// [`SegmentArrival`]: crate::SegmentArrival
pub mod arrivals {
    use std::time::Duration;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{deltas, in_units, same_lengths, sums, to_ns, unit, Error};
    use crate::nanos::to_u64;
    use crate::SegmentArrival;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Columns {
        unit_ns: u64,
        arrived: Vec<i64>,
        offset: Vec<i64>,
        len: Vec<u32>,
        readable: Vec<Option<u64>>,
    }

    fn encode(a: &[SegmentArrival]) -> Columns {
        let unit = unit(
            a.iter()
                .flat_map(|s| [Some(s.arrived), s.readable_at])
                .flatten()
                .map(to_u64),
        );
        let mut end = 0u64;
        let offset = a
            .iter()
            .map(|s| {
                let gap = s.offset.wrapping_sub(end) as i64;
                end = s.offset + u64::from(s.len);
                gap
            })
            .collect();
        Columns {
            unit_ns: unit,
            arrived: deltas(a.iter().map(|s| in_units(to_u64(s.arrived), unit))),
            offset,
            len: a.iter().map(|s| s.len).collect(),
            readable: a
                .iter()
                .map(|s| {
                    s.readable_at
                        .map(|r| in_units(to_u64(r).saturating_sub(to_u64(s.arrived)), unit))
                })
                .collect(),
        }
    }

    fn decode(c: Columns) -> Result<Vec<SegmentArrival>, Error> {
        if c.unit_ns == 0 {
            return Err(Error::ZeroUnit);
        }
        same_lengths(&[
            ("arrived", c.arrived.len()),
            ("offset", c.offset.len()),
            ("len", c.len.len()),
            ("readable", c.readable.len()),
        ])?;
        let arrived = sums("arrived", &c.arrived)?;
        let mut end = 0u64;
        let mut out = Vec::with_capacity(arrived.len());
        for (i, &at) in arrived.iter().enumerate() {
            let offset = end
                .checked_add_signed(c.offset[i])
                .ok_or(Error::OutOfRange {
                    column: "offset",
                    index: i,
                })?;
            end = offset + u64::from(c.len[i]);
            let at_ns = to_ns(at, c.unit_ns, "arrived", i)?;
            let readable_at = match c.readable[i] {
                Some(after) => Some(Duration::from_nanos(
                    to_ns(after, c.unit_ns, "readable", i)?
                        .checked_add(at_ns)
                        .ok_or(Error::OutOfRange {
                            column: "readable",
                            index: i,
                        })?,
                )),
                None => None,
            };
            out.push(SegmentArrival {
                arrived: Duration::from_nanos(at_ns),
                offset,
                len: c.len[i],
                readable_at,
            });
        }
        Ok(out)
    }

    /// Write the arrivals as columns, or `None` as `null`.
    pub fn serialize<S: Serializer>(
        a: &Option<Vec<SegmentArrival>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        a.as_deref().map(encode).serialize(s)
    }

    /// Read columns, or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<SegmentArrival>>, D::Error> {
        Option::<Columns>::deserialize(d)?
            .map(|c| decode(c).map_err(|e| D::Error::custom(format!("arrivals: {e}"))))
            .transpose()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn ms(n: u64) -> Duration {
            Duration::from_millis(n)
        }

        #[test]
        fn arrivals_round_trip_exactly_in_millisecond_units() {
            let a = vec![
                SegmentArrival {
                    arrived: ms(107),
                    offset: 0,
                    len: 626,
                    readable_at: Some(ms(107)),
                },
                SegmentArrival {
                    arrived: ms(158),
                    offset: 2074,
                    len: 1448,
                    readable_at: Some(ms(160)),
                },
                SegmentArrival {
                    arrived: ms(160),
                    offset: 626,
                    len: 1448,
                    readable_at: None,
                },
            ];
            let json = serde_json::to_value(encode(&a)).unwrap();
            assert_eq!(
                json,
                serde_json::json!({
                    "unit_ns": 1_000_000,
                    "arrived": [107, 51, 2],
                    "offset": [0, 1448, -2896],
                    "len": [626, 1448, 1448],
                    "readable": [0, 2, null],
                })
            );
            let back = decode(serde_json::from_value(json).unwrap()).unwrap();
            assert_eq!(back, a);
        }

        #[test]
        fn nanosecond_times_keep_a_unit_of_one() {
            let a = vec![SegmentArrival {
                arrived: Duration::from_nanos(1_000_000_007),
                offset: 5,
                len: 1,
                readable_at: Some(Duration::from_nanos(1_000_000_010)),
            }];
            let c = encode(&a);
            assert_eq!(c.unit_ns, 1);
            assert_eq!(decode(c).unwrap(), a);
        }

        #[test]
        fn columns_of_different_lengths_are_refused_by_name() {
            let bad = r#"{"unit_ns":1,"arrived":[1,2],"offset":[0],"len":[1,1],"readable":[0,0]}"#;
            let e = decode(serde_json::from_str(bad).unwrap()).unwrap_err();
            assert_eq!(
                e.to_string(),
                "column \"offset\" has 1 values, the series 2"
            );
            let zero = r#"{"unit_ns":0,"arrived":[],"offset":[],"len":[],"readable":[]}"#;
            assert_eq!(
                decode(serde_json::from_str(zero).unwrap()).unwrap_err(),
                Error::ZeroUnit
            );
            let negative = r#"{"unit_ns":1,"arrived":[-1],"offset":[0],"len":[1],"readable":[0]}"#;
            assert!(decode(serde_json::from_str(negative).unwrap()).is_err());
        }
    }
}
