package main

import "github.com/lttng-xen/lttng-xen/record"

// timeLayout is the wall-clock form of a timestamp: UTC, nanoseconds.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// timeFormatter appends wall-clock timestamps in [timeLayout], converted
// by [record.TraceInfo.Wall] with the clock the metadata declares. Events
// come in time order, many per second, so it formats the date and time of
// day once per second and only the nanoseconds for each event. Not safe
// for concurrent use.
type timeFormatter struct {
	info   record.TraceInfo
	sec    int64  // second prefix holds
	prefix []byte // "2006-01-02T15:04:05." of sec, or nil
}

// append appends the wall-clock time of ts to dst.
func (f *timeFormatter) append(dst []byte, ts uint64) []byte {
	wall := f.info.Wall(ts)
	sec, nsec := wall.Unix(), wall.Nanosecond()
	if f.prefix == nil || sec != f.sec {
		f.prefix = wall.AppendFormat(f.prefix[:0], "2006-01-02T15:04:05.")
		f.sec = sec
	}
	dst = append(dst, f.prefix...)
	var digits [9]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + nsec%10)
		nsec /= 10
	}
	dst = append(dst, digits[:]...)
	return append(dst, 'Z')
}

// wallTime formats the wall-clock time of ts in [timeLayout].
func wallTime(info record.TraceInfo, ts uint64) string {
	return info.Wall(ts).Format(timeLayout)
}
