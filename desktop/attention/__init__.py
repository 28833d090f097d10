"""Getting the officer's attention: repeated alarm sounds, per-alarm mute, flashing rows,
tray notifications, and the keyboard and quick filter of the alarm queue."""
