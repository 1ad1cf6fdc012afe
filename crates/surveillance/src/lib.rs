//! ISO weeks, case definitions, weekly series and the Moving Epidemic Method.
