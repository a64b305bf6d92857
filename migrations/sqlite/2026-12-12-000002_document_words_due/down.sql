DROP TABLE document_words_due;
