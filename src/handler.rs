//! One event, start to finish: parse, normalize, key, store, answer.
