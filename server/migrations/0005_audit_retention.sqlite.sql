-- D10: audit results cannot be changed, and cannot be deleted within 3 years of the audit.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit results are immutable (D10)'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN old.audit_date > date('now', '-3 years')
BEGIN SELECT RAISE(ABORT, 'audit results are kept at least 3 years from the audit date (D10)'); END;
CREATE TRIGGER audit_finding_no_update BEFORE UPDATE ON audit_finding
BEGIN SELECT RAISE(ABORT, 'audit results are immutable (D10)'); END;
CREATE TRIGGER audit_finding_no_delete BEFORE DELETE ON audit_finding
WHEN (SELECT audit_date FROM audit WHERE id = old.audit_id) > date('now', '-3 years')
BEGIN SELECT RAISE(ABORT, 'audit results are kept at least 3 years from the audit date (D10)'); END;
