-- An issued UPD and its lines never change: a correction is a new version (SQLite).
CREATE TRIGGER upd_no_update BEFORE UPDATE ON upd
BEGIN SELECT RAISE(ABORT, 'an issued unified payment document is immutable; issue a new version'); END;
CREATE TRIGGER upd_no_delete BEFORE DELETE ON upd
BEGIN SELECT RAISE(ABORT, 'an issued unified payment document is immutable; issue a new version'); END;
CREATE TRIGGER upd_line_no_update BEFORE UPDATE ON upd_line
BEGIN SELECT RAISE(ABORT, 'an issued unified payment document is immutable; issue a new version'); END;
CREATE TRIGGER upd_line_no_delete BEFORE DELETE ON upd_line
BEGIN SELECT RAISE(ABORT, 'an issued unified payment document is immutable; issue a new version'); END;
