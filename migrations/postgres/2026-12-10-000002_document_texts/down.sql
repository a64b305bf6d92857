DROP TABLE document_texts;
