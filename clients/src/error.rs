//! Error text for records: an error with its chain of sources.

/// `e` and its sources, joined with ": " (hyper's own message is often
/// only the outer layer, e.g. "error reading a body from connection").
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
