//! The client on `async-executor` + `async-io`, with no tokio runtime anywhere on the
//! client's side (the emulator runs its own server thread): the example's scenario.

#[allow(dead_code)]
#[path = "../examples/other_runtime.rs"]
mod example;

use std::sync::Arc;

use async_executor::Executor;

#[test]
fn runs_on_async_executor_and_async_io() {
    let emulator = kvcerts_emulator::Emulator::builder().start().expect("emulator");
    let executor = Arc::new(Executor::new());
    let runtime = example::async_io_runtime(executor.clone());
    // A plain thread with no tokio context: `tokio::spawn` or a tokio timer would panic here.
    assert!(tokio::runtime::Handle::try_current().is_err());
    let names =
        async_io::block_on(executor.run(example::run(runtime, emulator.vault_url(), emulator.ca_pem().unwrap())))
            .expect("the scenario runs");
    assert_eq!(names, ["other-runtime"]);
    let stats = emulator.stats();
    assert_eq!(stats.challenges, 1);
    assert_eq!(stats.connections, 1, "calls share one pooled connection: {stats:?}");
}
