//! Group commit against its baseline: journaling 256 inputs in one transaction (what the
//! core does with a batch) versus one transaction per input (what a core without group
//! commit would do). Both are durable (`synchronous=FULL`): each transaction is fsynced.
//!
//! `cargo bench -p switchboard-daemon --bench journal`

use switchboard_daemon::store::Store;

fn main() {
    divan::main();
}

const INPUTS: usize = 256;

fn records() -> Vec<(i64, Vec<u8>)> {
    (0..INPUTS).map(|i| (i as i64, vec![7u8; 120])).collect()
}

/// The baseline: one fsynced transaction per input.
#[divan::bench(sample_count = 5)]
fn one_transaction_per_input(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let records = records();
    bencher.bench_local(|| {
        for r in &records {
            store.append(std::slice::from_ref(r)).unwrap();
        }
    });
}

/// Group commit: the whole batch in one fsynced transaction.
#[divan::bench(sample_count = 5)]
fn one_transaction_per_batch(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let records = records();
    bencher.bench_local(|| {
        store.append(&records).unwrap();
    });
}
