-- D10: audit results cannot be changed, and cannot be deleted within 3 years of the audit.
CREATE FUNCTION esep_guard_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    audit_day date;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit results are immutable (D10)';
    END IF;
    IF TG_TABLE_NAME = 'audit' THEN
        audit_day := OLD.audit_date::date;
    ELSE
        SELECT a.audit_date::date INTO audit_day FROM audit a WHERE a.id = OLD.audit_id;
    END IF;
    IF audit_day > current_date - interval '3 years' THEN
        RAISE EXCEPTION 'audit results are kept at least 3 years from the audit date (D10)';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER audit_guard BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION esep_guard_audit();
CREATE TRIGGER audit_finding_guard BEFORE UPDATE OR DELETE ON audit_finding
    FOR EACH ROW EXECUTE FUNCTION esep_guard_audit();
-- TRUNCATE would bypass row triggers: refuse it too.
CREATE FUNCTION esep_refuse_audit_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit results are kept at least 3 years from the audit date (D10)';
END;
$$;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION esep_refuse_audit_truncate();
CREATE TRIGGER audit_finding_no_truncate BEFORE TRUNCATE ON audit_finding
    FOR EACH STATEMENT EXECUTE FUNCTION esep_refuse_audit_truncate();
