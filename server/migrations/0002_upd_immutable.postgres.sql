-- An issued UPD and its lines never change: a correction is a new version (PostgreSQL).
CREATE FUNCTION esep_refuse_upd_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an issued unified payment document is immutable; issue a new version';
END;
$$;
CREATE TRIGGER upd_immutable BEFORE UPDATE OR DELETE ON upd
    FOR EACH ROW EXECUTE FUNCTION esep_refuse_upd_change();
CREATE TRIGGER upd_line_immutable BEFORE UPDATE OR DELETE ON upd_line
    FOR EACH ROW EXECUTE FUNCTION esep_refuse_upd_change();
