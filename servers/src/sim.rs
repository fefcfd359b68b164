//! What a simulation's server host runs.

use netsim::tls::{self, ServerResumption, ALPN_H2, ALPN_H3, ALPN_HTTP1};
use netsim::SERVER_PORT;
use netsim::{FlowControl, Host};
use scenarios::Scheduler;

use crate::content::ContentServer;
use crate::error::ServerError;
use crate::quic::serve_h3_accepting;
use crate::tcp::serve_tcp;

/// Serve `server` on `host` over every protocol at once, for the whole run:
/// HTTP/1.1 and HTTP/2 (by ALPN) on TCP [`SERVER_PORT`], HTTP/3 on UDP [`SERVER_PORT`].
///
/// Flow control is [`FlowControl::for_buffer`] of the run's buffer size,
/// for HTTP/2 and QUIC alike; TLS presents the run's identity
/// (`Host::certificate`, minimal unless the run chose the realistic chain),
/// with the run's key log when key logging is on, and no session resumption; each
/// QUIC connection gets a qlog trace when the run records qlog. Pass this
/// (in a closure) as the server of `netsim::Simulation::run`. The same as
/// [`run_simulated_with`], [`ServerResumption::Off`] and
/// [`Scheduler::RoundRobin`].
pub async fn run_simulated(host: Host, server: ContentServer) -> Result<(), ServerError> {
    run_simulated_with(host, server, ServerResumption::Off, Scheduler::RoundRobin).await
}

/// [`run_simulated`], with TLS sessions handled as `resumption` says, over
/// TCP and QUIC alike: with [`ServerResumption::On`] the servers issue
/// tickets, accept early data and 0-RTT, and answer early requests with
/// 0.5-RTT data (see `netsim::tls::ServerResumption`,
/// [`crate::early_data`] and [`crate::serve_h3_with`]); and with the
/// responses of each HTTP/2 and HTTP/3 connection sent in the order
/// `scheduler` says (see [`crate::schedule`]; [`Scheduler::RoundRobin`] is
/// what the servers do of themselves).
pub async fn run_simulated_with(
    host: Host,
    server: ContentServer,
    resumption: ServerResumption,
    scheduler: Scheduler,
) -> Result<(), ServerError> {
    let flow = FlowControl::for_buffer(host.buffer_bytes());
    let listener = host
        .tcp_listen(SERVER_PORT)
        .map_err(|source| ServerError::Listen {
            port: SERVER_PORT,
            source,
        })?;
    let quic = netsim::quic::QuicServer::bind(
        &host,
        SERVER_PORT,
        tls::quic_server_crypto_for(&[ALPN_H3], host.key_log(), resumption, host.certificate()),
        &flow.quic().with_congestion(host.quic_congestion()),
    )
    .map_err(|source| ServerError::Endpoint {
        port: SERVER_PORT,
        source,
    })?;
    let endpoint = quic.endpoint().clone();
    let tls = tls::server_config_for(
        &[ALPN_H2, ALPN_HTTP1],
        host.key_log(),
        resumption,
        host.certificate(),
    );
    tokio::try_join!(
        serve_tcp(listener, tls, server.clone(), flow, scheduler),
        serve_h3_accepting(endpoint, server, scheduler, move |incoming| {
            quic.accept(incoming, matches!(resumption, ServerResumption::On))
        }),
    )?;
    Ok(())
}
