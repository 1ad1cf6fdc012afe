//! The disclosure gate every outgoing result passes; the only maker of Released<T>.
