-- D11: a staff read of personal data records why.
ALTER TABLE access_journal ADD COLUMN reason TEXT;
