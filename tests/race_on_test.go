//go:build race

package tests

// raceEnabled: the daemons are built with -race too, so the multi-process
// tests also check the daemons for data races.
const raceEnabled = true
