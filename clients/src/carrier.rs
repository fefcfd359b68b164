//! The one boundary between the runner and the protocols: a [`Carrier`]
//! takes requests and finishes them over its connections (HTTP/1.1's pool,
//! HTTP/2's and HTTP/3's one connection).

/// Where a carrier's connection stands, for a client that races
/// connections before it sends anything on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// No connection opened, or a carrier that does not say.
    Idle,
    /// Its connection is being opened (polling [`Carrier::next_done`]
    /// drives it, and returns `None` once it is open or failed if nothing
    /// else is outstanding).
    Opening,
    /// Its connection is open.
    Ready,
    /// Its connection failed.
    Failed,
}

/// One protocol's way of carrying requests over its connections.
///
/// Call order: [`Carrier::submit`] a queued request (an index into the
/// ledger), then [`Carrier::next_done`] once per submitted request. A
/// carrier opens connections as it needs them and always finishes a
/// submitted request, successfully or not.
pub(crate) trait Carrier {
    /// Take request `req`, already queued in the ledger.
    fn submit(&mut self, req: usize);

    /// Wait for the next submitted request to finish (succeed or fail; a
    /// request cut off by a path change and resumed has not finished) and
    /// return its index; `None` if nothing is outstanding.
    async fn next_done(&mut self) -> Option<usize>;

    /// Start opening a connection before any request (a race of
    /// connections); a carrier that cannot does nothing.
    fn connect(&mut self) {}

    /// Where its connection stands; [`Readiness::Idle`] for a carrier
    /// that does not say.
    fn readiness(&self) -> Readiness {
        Readiness::Idle
    }
}
