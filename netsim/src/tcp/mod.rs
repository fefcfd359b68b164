//! TCP for the simulated hosts: the stack trait, its smoltcp implementation,
//! and the async stream and listener written once against the trait.
pub mod io;
pub mod smoltcp;
pub mod stack;

pub use self::io::{TcpListener, TcpStream};
pub use self::smoltcp::SmoltcpStack;
pub use stack::{
    Congestion, ConnId, ConnState, ListenerId, RecvOutcome, SendOutcome, TcpConfig, TcpError,
    TcpSenderInfo, TcpStack,
};
