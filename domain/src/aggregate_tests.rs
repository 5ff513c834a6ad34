//! Given/when/then tests of every rule of the `Complaint` aggregate.
