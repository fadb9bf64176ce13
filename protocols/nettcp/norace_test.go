//go:build !race

package nettcp

const raceEnabled = false
